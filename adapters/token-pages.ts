/**
 * Listings paged by a string token, as Lambda's ListEventSourceMappings (`Marker` / `NextMarker`) and
 * DynamoDB Streams' DescribeStream (`ExclusiveStartShardId` / `LastEvaluatedShardId`) page theirs.
 */

/**
 * Every page of a listing, in order. `fetch` gets the request's token field: none for the first page,
 * then `{ [field]: token }` with the token the page before gave (`next`), until a page gives none.
 */
export async function* tokenPages<F extends string, P>(
  field: F,
  fetch: (start: Partial<Record<F, string>>) => Promise<P>,
  next: (page: P) => string | undefined,
): AsyncGenerator<P, void, undefined> {
  let token: string | undefined;
  do {
    const page = await fetch(token ? ({ [field]: token } as Record<F, string>) : {});
    yield page;
    token = next(page);
  } while (token);
}
