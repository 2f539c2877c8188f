import { z } from 'zod';
import { normalizeProjectNumber, PROJECT_NUMBER_MAX_DIGITS } from './ids.js';

/** A project number as sent by a client: a number or 1–12 digits; canonicalised to a string. */
export const ProjectNumberSchema = z
  .union([z.string().trim(), z.number()])
  .transform((value, ctx) => {
    const canonical = normalizeProjectNumber(value);
    if (canonical === null) {
      ctx.addIssue({
        code: 'custom',
        message: `project_number must be a positive whole number of 1–${PROJECT_NUMBER_MAX_DIGITS} digits`,
      });
      return z.NEVER;
    }
    return canonical;
  });

export const ProjectSchema = z.object({
  project_number: z.string(),
  project_name: z.string(),
});
export type Project = z.infer<typeof ProjectSchema>;
