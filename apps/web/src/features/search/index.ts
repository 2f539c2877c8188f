export type { SearchTarget } from './components/SearchDialog';
