export * from './ids.js';
export * from './errors.js';
export * from './auth.js';
export * from './projects.js';
export * from './chats.js';
export * from './messages.js';
export * from './health.js';
