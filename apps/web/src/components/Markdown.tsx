import ReactMarkdown, { type Components } from 'react-markdown';
import rehypeHighlight from 'rehype-highlight';
import remarkGfm from 'remark-gfm';
import { CodeBlock } from './CodeBlock';
import '../styles/markdown.css';

const components: Components = {
  pre: CodeBlock,
  a: ({ node: _node, ...props }) => <a {...props} target="_blank" rel="noopener noreferrer" />,
};

/**
 * Model output is untrusted. Without rehype-raw (never add it), react-markdown turns any HTML in
 * the text into plain text, so `<script>` shows as the characters it is and no element is made;
 * its default URL transform drops `javascript:` links. Loaded lazily: markdown parsing and
 * highlighting are most of the app's code.
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
