import { ConstRedis } from '../../src/client/const-redis.js';
import { facadeSuite } from './facade-suite.js';

facadeSuite('Cache over one ConstRedis', 1, ([server]) => new ConstRedis(server!.url));
