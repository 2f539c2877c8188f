export { CreateProjectChatModal } from '../features/projects';
