export { AdminRoute } from './components/AdminRoute';
