export { freePort } from './free-port.js';
export { requireBinary, waitForPort, stopProcess } from './processes.js';
export { startRedisServer, type RedisServer } from './redis-server.js';
export { startRedisSentinelSet, type RedisSentinelSet } from './redis-sentinel.js';
export { startMariaDb, type MariaDbServer } from './mariadb-server.js';
export { DEMO_TPMS, TPMS_SCHEMA_SQL, loadTpms, createReadOnlyUser, type TpmsData } from './tpms-schema.js';
export { startNginx, prepareNginx, testNginxConfig, nginxArgs, SUBSTITUTED_LINES, TLS_SUBSTITUTED_LINES, type NginxServer, type NginxRun, type NginxOptions, type StartNginxOptions } from './nginx.js';
export { fakeUsage, startFakeLlm, type FakeLlm, type FakeLlmMode, type FakeLlmOptions } from './fake-llm.js';
export { startPostgres, postgresBinDir, type PostgresServer } from './postgres-server.js';
