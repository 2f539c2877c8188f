import type { TpmsData } from './tpms-schema.js';

/** The password of every fixture user. */
export const FIXTURE_PASSWORD = 'correct horse battery staple';

export const PROJECTS = {
  refinery: { id: 10234, name: 'Bandar Abbas Refinery Expansion' },
  compression: { id: 10571, name: 'Asaluyeh Gas Compression Station 4' },
  substation: { id: 11348, name: 'Tabriz Substation 400 kV Retrofit' },
  /** Exists, but nobody has permission. */
  tankFarm: { id: 12090, name: 'Kharg Island Crude Tank Farm Inspection' },
} as const;

/** Not in TPMS at all. */
export const UNKNOWN_PROJECT = 99999;

export const USERS = {
  arash: { username: 'a.rahimi', displayName: 'Arash Rahimi' },
  sara: { username: 's.karimi', displayName: 'Sara Karimi' },
  inactive: { username: 'm.tehrani', displayName: 'Mina Tehrani' },
  /** On the refinery project with Arash and Sara: a colleague chats are shared with. */
  reza: { username: 'r.hosseini', displayName: 'Reza Hosseini' },
  /** Active, but on the substation project only: outside the refinery team. */
  leila: { username: 'l.moradi', displayName: 'Leila Moradi' },
  /** On the refinery project; the sharing tests revoke and restore his permission. */
  omid: { username: 'o.jafari', displayName: 'Omid Jafari' },
  /** Listed in ADMIN_USERS by the harness. */
  admin: { username: 'ops.admin', displayName: 'Operations Admin' },
} as const;

export const ADMIN_USERS = USERS.admin.username;

export const TEST_TPMS: TpmsData = {
  projects: Object.values(PROJECTS).map((project) => ({ id: project.id, name: project.name })),
  users: [
    { username: USERS.arash.username, password: FIXTURE_PASSWORD, displayName: USERS.arash.displayName },
    { username: USERS.sara.username, password: FIXTURE_PASSWORD, displayName: USERS.sara.displayName },
    { username: USERS.inactive.username, password: FIXTURE_PASSWORD, displayName: USERS.inactive.displayName, active: false },
    { username: USERS.admin.username, password: FIXTURE_PASSWORD, displayName: USERS.admin.displayName },
    { username: USERS.reza.username, password: FIXTURE_PASSWORD, displayName: USERS.reza.displayName },
    { username: USERS.leila.username, password: FIXTURE_PASSWORD, displayName: USERS.leila.displayName },
    { username: USERS.omid.username, password: FIXTURE_PASSWORD, displayName: USERS.omid.displayName },
  ],
  permissions: [
    [PROJECTS.refinery.id, USERS.arash.username],
    [PROJECTS.compression.id, USERS.arash.username],
    [PROJECTS.refinery.id, USERS.sara.username],
    [PROJECTS.substation.id, USERS.sara.username],
    [PROJECTS.refinery.id, USERS.reza.username],
    [PROJECTS.substation.id, USERS.leila.username],
    [PROJECTS.refinery.id, USERS.omid.username],
    // Inactive people keep their permission rows: the people picker must still leave them out.
    [PROJECTS.refinery.id, USERS.inactive.username],
  ],
};
