/** The status settings of a collector running with the default configuration, for tests that serve `/api/status`. */
import { parseMonitorConfig } from '../../src/config/config.ts';
import { statusSettingsOf } from '../../src/query/collection-status.ts';

export const DEFAULT_STATUS_SETTINGS = statusSettingsOf(parseMonitorConfig({ DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/unused' }));
