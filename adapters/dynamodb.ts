/**
 * DynamoDB client construction and the boundary between the SDK's `AttributeValue` and the core's.
 * The `{ endpoint, region }` seam is what lets local mode and tests run the deployed code against
 * DynamoDB Local.
 */
import { type AttributeValue as SdkAttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { type Item, assertItem } from '../core/model';
import { keepExactAttributeValues } from './exact-values';

/** Where to reach DynamoDB. Omit `endpoint` for AWS. */
export interface DynamoEndpoint {
  readonly endpoint?: string;
  readonly region?: string;
  /** Static credentials, for DynamoDB Local (which needs any alphanumeric key id). */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** SDK retry attempts. @default 3 */
  readonly maxAttempts?: number;
  /**
   * Called with every client built for this endpoint (DynamoDB and Streams), after dualread's own
   * middleware: local mode's fault layer (`local/faults`) installs its middleware here.
   */
  readonly instrument?: (
    client: DynamoDBClient | DynamoDBStreamsClient,
    kind: 'dynamodb' | 'streams',
  ) => void;
}

/** The client settings for an endpoint, the same for the DynamoDB and the Streams client. */
export function clientConfig(where: DynamoEndpoint): {
  region: string;
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  maxAttempts: number;
} {
  return {
    region: where.region ?? process.env.AWS_REGION ?? 'us-east-1',
    ...(where.endpoint ? { endpoint: where.endpoint } : {}),
    ...(where.credentials ? { credentials: { ...where.credentials } } : {}),
    maxAttempts: where.maxAttempts ?? 3,
  };
}

/** Builds a DynamoDB client for an endpoint. */
export function makeDynamoClient(where: DynamoEndpoint = {}): DynamoDBClient {
  const client = new DynamoDBClient(clientConfig(where));
  // Attribute values are read from the raw JSON, exactly (adapters/exact-values.ts).
  keepExactAttributeValues(client);
  where.instrument?.(client, 'dynamodb');
  return client;
}

/** The SDK's item type. */
export type SdkItem = Record<string, SdkAttributeValue>;

/**
 * Views an item returned by DynamoDB as the core's type. DynamoDB only returns well-formed values, so
 * this is a typed view, not a copy (hot paths read millions of items); use `fromUntrustedSdkItem` for
 * items from anywhere else.
 */
export function fromSdkItem(item: SdkItem): Item {
  return item as unknown as Item;
}

/** Converts an SDK-shaped item from an untrusted source, validating every value. */
export function fromUntrustedSdkItem(item: unknown): Item {
  return assertItem(item);
}

/** Converts a core item to the SDK's type; the shapes are identical, so this is a typed view. */
export function toSdkItem(item: Item): SdkItem {
  return item as unknown as SdkItem;
}
