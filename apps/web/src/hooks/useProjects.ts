export { useProjectLookup, validateProjectInput, type ProjectLookup } from '../features/projects';
