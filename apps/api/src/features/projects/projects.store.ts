import { tpmsRows, type TpmsPool } from '../../tpms.js';

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
  };
}

export type ProjectsStore = ReturnType<typeof createProjectsStore>;
