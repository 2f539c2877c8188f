import { createContext, useContext, type ComponentProps } from 'react';
import ReactMarkdown, { type Components, type ExtraProps } from 'react-markdown';
import rehypeHighlight from 'rehype-highlight';
import remarkGfm from 'remark-gfm';
import { CodeBlock } from './CodeBlock';
import '../styles/markdown.css';

/** Whether an element is inside a link: a link inside a link is invalid HTML. */
const InsideLink = createContext(false);

function sameOrigin(url: string): boolean {
  try {
    return new URL(url, window.location.href).origin === window.location.origin;
  } catch {
    return false;
  }
}

/**
 * An image of the model's reply loads only from this site. Any other URL would make the browser
 * fetch whatever the model (or text it was fed) names, which can track the reader or carry the
 * conversation out in the URL; it becomes a link the user may choose to open instead.
 */
function MarkdownImage({ node: _node, src, alt, ...props }: ComponentProps<'img'> & ExtraProps) {
  const insideLink = useContext(InsideLink);
  const url = typeof src === 'string' ? src : '';
  if (url !== '' && sameOrigin(url)) return <img {...props} src={url} alt={alt ?? ''} />;
  const text = alt ? `${alt} (${url})` : url;
  if (url === '' || insideLink) return <span className="markdown-image-link">{url === '' ? alt : text}</span>;
  return (
    <a className="markdown-image-link" href={url} target="_blank" rel="noopener noreferrer" title="Image from another site, not loaded">
      {text}
    </a>
  );
}

const components: Components = {
  pre: CodeBlock,
  a: ({ node: _node, ...props }) => (
    <InsideLink value={true}>
      <a {...props} target="_blank" rel="noopener noreferrer" />
    </InsideLink>
  ),
  img: MarkdownImage,
};

/**
 * Model output is untrusted. Without rehype-raw (never add it), react-markdown turns any HTML in
 * the text into plain text, so `<script>` shows as the characters it is and no element is made;
 * its default URL transform drops `javascript:` links, and images from other sites are shown as
 * links, never loaded. Loaded lazily: markdown parsing and highlighting are most of the app's code.
 */
export default function Markdown({ text }: { text: string }) {
  return (
    <div className="markdown">
      <ReactMarkdown remarkPlugins={[remarkGfm]} rehypePlugins={[rehypeHighlight]} components={components}>
        {text}
      </ReactMarkdown>
    </div>
  );
}
