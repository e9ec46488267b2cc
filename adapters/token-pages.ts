/**
 * Listings paged by a string token, as Lambda's ListEventSourceMappings (`Marker` / `NextMarker`) and
 * DynamoDB Streams' DescribeStream (`ExclusiveStartShardId` / `LastEvaluatedShardId`) page theirs.
 */

/**
 * Every page of a listing, in order: `fetch` gets the token of the page before (undefined for the
 * first) and is called again until a page's `next` token is empty.
 */
export async function* tokenPages<P>(
  fetch: (token: string | undefined) => Promise<P>,
  next: (page: P) => string | undefined,
): AsyncGenerator<P, void, undefined> {
  let token: string | undefined;
  do {
    const page = await fetch(token);
    yield page;
    token = next(page);
  } while (token);
}
