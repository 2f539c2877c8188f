import { tpmsRows, type TpmsPool } from '../../tpms.js';

const placeholders = (count: number) => Array.from({ length: count }, () => '?').join(', ');

/** Read-only TPMS queries; every value travels as a bound parameter. */
export function createProjectsStore(pool: TpmsPool | null) {
  return {
    async findProject(projectNumber: string): Promise<{ project_number: string; project_name: string } | null> {
      const rows = await tpmsRows<{ IDProjectMain: string | number; Project_Name: string }>(
        pool,
        'SELECT IDProjectMain, Project_Name FROM View_Project_Main WHERE IDProjectMain = ?',
        [projectNumber],
      );
      const row = rows[0];
      return row ? { project_number: String(row.IDProjectMain), project_name: row.Project_Name } : null;
    },
    async hasPermission(projectNumber: string, userId: string): Promise<boolean> {
      const rows = await tpmsRows(pool, 'SELECT 1 FROM draft_permission WHERE project_ID = ? AND user = ?', [
        projectNumber,
        userId,
      ]);
      return rows.length > 0;
    },
    /** Which of the users have permission on which of the projects: [project, user] pairs that do. */
    async permissionsAmong(projectNumbers: string[], userIds: string[]): Promise<Array<[string, string]>> {
      if (projectNumbers.length === 0 || userIds.length === 0) return [];
      const rows = await tpmsRows<{ project_ID: string | number; user: string }>(
        pool,
        `SELECT project_ID, user FROM draft_permission WHERE project_ID IN (${placeholders(projectNumbers.length)}) AND user IN (${placeholders(userIds.length)})`,
        [...projectNumbers, ...userIds],
      );
      return rows.map((row) => [String(row.project_ID), row.user]);
    },
  };
}

export type ProjectsStore = ReturnType<typeof createProjectsStore>;
