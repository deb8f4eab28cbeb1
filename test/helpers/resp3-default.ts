/**
 * Preloaded by `npm run test:resp3` (node --import): every client a test makes without naming
 * a protocol speaks RESP3, so the whole suite runs under it and must give the same results.
 */
import { setDefaultProtocol } from '../../src/connection/options.ts';

setDefaultProtocol(3);
