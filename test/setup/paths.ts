import { join } from 'node:path';

// HEARTH_TEST_DATA_DIR lets two test runs on one machine keep separate embedded servers.
export const TEST_DATA_DIR = process.env.HEARTH_TEST_DATA_DIR ?? join(__dirname, '..', '..', '.data', 'test');
export const TEST_STATE_FILE = join(TEST_DATA_DIR, 'state.json');
export const TEMPLATE_DB = 'hearth_template';
