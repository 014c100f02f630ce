// PostGraphile 5 as bench/load.sh runs it: the amber preset in production mode, with the
// connection-filter plugin so that the filtered query has an equivalent. DATABASE_URL and
// PORT come from the environment.
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { PostGraphileConnectionFilterPreset } from "postgraphile-plugin-connection-filter";
import { makePgService } from "postgraphile/adaptors/pg";

export default {
  extends: [PostGraphileAmberPreset, PostGraphileConnectionFilterPreset],
  pgServices: [
    makePgService({ connectionString: process.env.DATABASE_URL, schemas: ["public"] }),
  ],
  grafserv: { host: "127.0.0.1", port: Number(process.env.PORT ?? 5678), graphiql: false },
  grafast: { explain: false },
};
