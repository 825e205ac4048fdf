import { defineBench } from '@souk/harness/bench';
import { benchReshard } from './reshard.ts';
import { benchTopics } from './topic-batching.ts';

/** The operator's two batch jobs: 500 Topics batched against unbatched, a reshard against redis-cli. */
export default defineBench('operator-topic-redis', async (ctx) => {
  await benchTopics(ctx);
  await benchReshard(ctx);
});
