import { join } from 'node:path';

export const TEST_DATA_DIR = join(__dirname, '..', '..', '.data', 'test');
export const TEST_STATE_FILE = join(TEST_DATA_DIR, 'state.json');
export const TEMPLATE_DB = 'hearth_template';
