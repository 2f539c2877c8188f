export { CreateProjectChatModal } from './components/CreateProjectChatModal';
export {
  useProjectLookup,
  validateProjectInput,
  type ProjectLookup,
} from './hooks/useProjectLookup';
