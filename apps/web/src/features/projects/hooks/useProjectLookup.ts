import { normalizeProjectNumber, PROJECT_NUMBER_MAX_DIGITS, type Project } from '@simorgh/contracts';
import { ApiError } from '../../../api/api-error';
import { useDebouncedValue } from '../../../hooks/useDebouncedValue';
import { useProject } from '../api/get-project';

const PROJECT_LOOKUP_DEBOUNCE_MS = 300;

export type ProjectLookup =
  | { state: 'empty' }
  | { state: 'invalid'; message: string }
  | { state: 'checking' }
  | { state: 'found'; project: Project }
  | { state: 'not_found'; message: string }
  | { state: 'forbidden'; message: string }
  | { state: 'unavailable'; message: string }
  | { state: 'error'; message: string };

type Validated = { ok: true; projectNumber: string } | { ok: false; lookup: ProjectLookup };

/** Checks the typed text locally; nothing that is not a project number ever reaches the API. */
export function validateProjectInput(raw: string): Validated {
  const text = raw.trim();
  if (text === '') return { ok: false, lookup: { state: 'empty' } };
  if (!/^\d+$/.test(text)) {
    return { ok: false, lookup: { state: 'invalid', message: 'Project ID must contain digits only.' } };
  }
  const projectNumber = normalizeProjectNumber(text);
  if (projectNumber === null) {
    return {
      ok: false,
      lookup: { state: 'invalid', message: `Project ID must be a number from 1 to ${PROJECT_NUMBER_MAX_DIGITS} digits.` },
    };
  }
  return { ok: true, projectNumber };
}

function lookupFromError(error: unknown): ProjectLookup {
  if (error instanceof ApiError) {
    if (error.code === 'not_found') return { state: 'not_found', message: error.detail };
    if (error.code === 'forbidden') return { state: 'forbidden', message: error.detail };
    if (error.code === 'upstream_unavailable') {
      return { state: 'unavailable', message: error.detail };
    }
    return { state: 'error', message: error.detail };
  }
  return { state: 'error', message: 'The project could not be checked. Try again.' };
}

/** Live lookup of a typed Project ID, debounced so typing "12345" makes one request, not five. */
export function useProjectLookup(rawInput: string): ProjectLookup {
  const validated = validateProjectInput(rawInput);
  const current = validated.ok ? validated.projectNumber : null;
  const debounced = useDebouncedValue(current, PROJECT_LOOKUP_DEBOUNCE_MS);
  const settled = current !== null && debounced === current;

  const query = useProject(current ?? '', { enabled: settled });

  if (!validated.ok) return validated.lookup;
  if (query.data !== undefined) return { state: 'found', project: query.data };
  if (query.error !== null && !query.isFetching) return lookupFromError(query.error);
  return { state: 'checking' };
}
