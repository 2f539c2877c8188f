import { detailOf } from '../../api/api-error';

/** What a notice about a failed chat change says: the API's reason, or a generic one. */
export function failureDetail(error: unknown): string {
  return detailOf(error, 'Something went wrong. Try again.');
}
