import { LambdaClient, ListEventSourceMappingsCommand } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { EventSourceMappingCdcStatus } from '../../adapters/cdc-status';

const STREAM = 'arn:aws:dynamodb:eu-west-1:123456789012:table/users/stream/2026-01-01T00:00:00.000';

describe('Class: EventSourceMappingCdcStatus', () => {
  const lambda = mockClient(LambdaClient);
  afterEach(() => lambda.reset());

  it('finds an Enabled TRIM_HORIZON mapping on a later page of ListEventSourceMappings', async () => {
    // Prepare
    lambda
      .on(ListEventSourceMappingsCommand, { FunctionName: 'sync-fn', EventSourceArn: STREAM })
      .resolvesOnce({
        EventSourceMappings: [
          { UUID: 'a', EventSourceArn: STREAM, State: 'Disabled', StartingPosition: 'TRIM_HORIZON' },
        ],
        NextMarker: 'm1',
      })
      .resolvesOnce({
        EventSourceMappings: [
          { UUID: 'b', EventSourceArn: STREAM, State: 'Enabled', StartingPosition: 'TRIM_HORIZON' },
        ],
      });
    const status = new EventSourceMappingCdcStatus(
      new LambdaClient({ region: 'eu-west-1' }),
      'sync-fn',
      STREAM,
    );

    // Act
    const out = await status.check();

    // Assess
    expect(out).toEqual({
      consuming: true,
      reason: expect.stringMatching(/mapping b of sync-fn is Enabled/),
    });
    expect(lambda.commandCalls(ListEventSourceMappingsCommand).map((c) => c.args[0].input.Marker)).toEqual([
      undefined,
      'm1',
    ]);
  });

  it('reports not consuming when the only mapping starts from LATEST', async () => {
    // Prepare
    lambda.on(ListEventSourceMappingsCommand).resolves({
      EventSourceMappings: [
        { UUID: 'c', EventSourceArn: STREAM, State: 'Enabled', StartingPosition: 'LATEST' },
      ],
    });
    const status = new EventSourceMappingCdcStatus(
      new LambdaClient({ region: 'eu-west-1' }),
      'sync-fn',
      STREAM,
    );

    // Act
    const out = await status.check();

    // Assess
    expect(out.consuming).toBe(false);
    expect(out.reason).toMatch(/c: Enabled from LATEST/);
  });
});
