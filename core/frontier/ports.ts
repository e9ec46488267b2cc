/**
 * The frontier tracker's ports: the streams API, where evidence comes from (progress markers, waivers,
 * the new table) and the control items it owns. Adapters implement them (adapters/streams-reader.ts,
 * adapters/frontier-store.ts); tests fake them (test/helpers/fake-streams.ts).
 */
import type { FrontierState } from '../control';
import type { AppliedMarker } from '../cdc';
import type { Item } from '../model';
import type { TrackedRecordInput } from './records';
import type { PersistedShard } from './shard-ledger';

/** One shard as DescribeStream lists it. */
export interface StreamShardInfo {
  readonly shardId: string;
  readonly parentShardId?: string;
  /** Has an EndingSequenceNumber. */
  readonly closed: boolean;
}

/** The streams API, as the tracker uses it. */
export interface StreamsPort {
  /** Every shard of the stream (all DescribeStream pages). */
  listShards(): Promise<StreamShardInfo[]>;
  /** An iterator after `afterSequence`, or at TRIM_HORIZON when undefined. */
  iterator(shardId: string, afterSequence?: string): Promise<string>;
  /**
   * One GetRecords page; `next` undefined when the shard is closed and read to its end. `tip`: the store
   * guarantees that this page holds every record that was visible when the call started (DynamoDB
   * Local's pages short of the page size); never set against AWS, whose pages promise no such thing.
   */
  records(
    shardId: string,
    iterator: string,
  ): Promise<{ records: TrackedRecordInput[]; next?: string; tip?: boolean }>;
}

/** Where the tracker's evidence comes from. */
export interface EvidencePort {
  /** Progress markers whose first sequence number is >= `fromSeq` (all when undefined). */
  markers(fromSeq?: string): Promise<Array<AppliedMarker & { readonly sk: string }>>;
  /** Padded sequence numbers of waived records. */
  waivers(): Promise<string[]>;
  /** `_dr_seq` of the new items under these new-table keys (undefined: no item), in order. */
  newItemSequences(newKeys: readonly Item[]): Promise<Array<string | undefined>>;
}

/** The control items the tracker owns. */
export interface FrontierStorePort {
  loadShards(): Promise<PersistedShard[]>;
  saveShard(shard: PersistedShard): Promise<void>;
  getFrontier(): Promise<FrontierState | undefined>;
  /** Versioned put; throws on a concurrent change. */
  putFrontier(next: Omit<FrontierState, 'version'>, expectedVersion: number): Promise<FrontierState>;
}
