import { ConstRedis } from '../../src/client/const-redis.ts';
import { facadeSuite } from './facade-suite.ts';

facadeSuite('Cache over one ConstRedis', 1, ([server]) => new ConstRedis(server!.url));
