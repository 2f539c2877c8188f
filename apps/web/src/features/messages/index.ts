export { ChatRoute } from './components/ChatRoute';
