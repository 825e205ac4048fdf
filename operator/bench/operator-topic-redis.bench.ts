import { defineBench } from '@souk/harness/bench';
import { benchReshard } from './reshard.ts';

export default defineBench('operator-topic-redis', async (ctx) => {
  await benchReshard(ctx);
});
