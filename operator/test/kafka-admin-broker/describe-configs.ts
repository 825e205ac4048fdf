import { type ApiHandler, ApiKey, type RequestContext } from './api.ts';
import { ConfigSource, ResourceType } from './config-resource.ts';
import { Encoder } from './encoder.ts';
import { ApiError, ErrorCode } from './errors.ts';
import { topicConfigDefinition, topicConfigNames } from './topic-configs.ts';

interface Synonym {
  readonly name: string;
  readonly value: string;
  readonly source: number;
}

interface ConfigEntry {
  readonly name: string;
  readonly value: string;
  readonly source: number;
  readonly synonyms: readonly Synonym[];
}

interface ResourceResult {
  readonly errorCode: number;
  readonly errorMessage: string | null;
  readonly type: number;
  readonly name: string;
  readonly entries: readonly ConfigEntry[];
}

/**
 * DescribeConfigs v0-v2 for topic resources. A topic config set on the topic has source TOPIC_CONFIG;
 * every other one is the broker default (DEFAULT_CONFIG, is_default in v0). Topic configs are never
 * read-only. Broker resources are not modelled by this test broker and answer INVALID_REQUEST.
 */
export const describeConfigs: ApiHandler = {
  apiKey: ApiKey.DescribeConfigs,
  name: 'DescribeConfigs',
  minVersion: 0,
  maxVersion: 2,
  handle(ctx, version, req) {
    const resources = req.readArray((d) => ({
      type: d.readInt8(),
      name: d.readString(),
      configNames: d.readNullableArray((c) => c.readString()),
    }));
    const includeSynonyms = version >= 1 ? req.readBoolean() : false;

    const results = resources.map((r): ResourceResult => {
      try {
        return {
          errorCode: ErrorCode.NONE,
          errorMessage: null,
          type: r.type,
          name: r.name,
          entries: describeTopic(ctx, r.type, r.name, r.configNames),
        };
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        return { errorCode: err.code, errorMessage: err.message, type: r.type, name: r.name, entries: [] };
      }
    });

    return new Encoder().writeInt32(0).writeArray(results, (w, r) => {
      w.writeInt16(r.errorCode).writeNullableString(r.errorMessage).writeInt8(r.type).writeString(r.name);
      w.writeArray(r.entries, (ew, entry) => {
        ew.writeString(entry.name).writeNullableString(entry.value).writeBoolean(false);
        if (version === 0) ew.writeBoolean(entry.source === ConfigSource.DEFAULT_CONFIG);
        else ew.writeInt8(entry.source);
        ew.writeBoolean(false);
        if (version >= 1) {
          ew.writeArray(includeSynonyms ? entry.synonyms : [], (sw, s) =>
            sw.writeString(s.name).writeNullableString(s.value).writeInt8(s.source),
          );
        }
      });
    });
  },
};

function describeTopic(
  ctx: RequestContext,
  type: number,
  name: string,
  configNames: readonly string[] | null,
): ConfigEntry[] {
  if (type !== ResourceType.TOPIC) {
    throw new ApiError(ErrorCode.INVALID_REQUEST, `Resource type ${type} is not supported by this broker.`);
  }
  const topic = ctx.store.get(name);
  if (!topic) throw new ApiError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Topic ${name} does not exist.`);
  const wanted = configNames ? topicConfigNames.filter((n) => configNames.includes(n)) : topicConfigNames;
  return wanted.map((configName) => {
    const def = topicConfigDefinition(configName)!;
    const defaultSynonym: Synonym[] = def.brokerSynonym
      ? [{ name: def.brokerSynonym, value: def.defaultValue, source: ConfigSource.DEFAULT_CONFIG }]
      : [];
    const dynamic = topic.config.get(configName);
    if (dynamic === undefined) {
      return {
        name: configName,
        value: def.defaultValue,
        source: ConfigSource.DEFAULT_CONFIG,
        synonyms: defaultSynonym,
      };
    }
    return {
      name: configName,
      value: dynamic,
      source: ConfigSource.TOPIC_CONFIG,
      synonyms: [{ name: configName, value: dynamic, source: ConfigSource.TOPIC_CONFIG }, ...defaultSynonym],
    };
  });
}
