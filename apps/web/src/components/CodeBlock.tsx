import { useRef, type ComponentProps } from 'react';
import type { ExtraProps } from 'react-markdown';
import { CopyButton } from './CopyButton';

function languageOf(node: ExtraProps['node']): string | null {
  const code = node?.children[0];
  if (code === undefined || code.type !== 'element') return null;
  const classes = code.properties.className;
  if (!Array.isArray(classes)) return null;
  const language = classes.map(String).find((name) => name.startsWith('language-'));
  return language === undefined ? null : language.slice('language-'.length);
}

export function CodeBlock({ node, children, ...props }: ComponentProps<'pre'> & ExtraProps) {
  const preRef = useRef<HTMLPreElement>(null);
  const language = languageOf(node);
  return (
    <div className="code-block">
      <div className="code-toolbar">
        <span className="code-language">{language ?? 'code'}</span>
        <CopyButton label="Copy code" getText={() => preRef.current?.textContent ?? ''} />
      </div>
      <pre ref={preRef} {...props}>
        {children}
      </pre>
    </div>
  );
}
