/**
 * Starts one in-memory DynamoDB Local for the whole integration run and hands its endpoint to the
 * test workers through the environment. Tests create uniquely named tables, so they can share it.
 */
import { startDynamoLocal } from '../../local/dynamodb-local';

export default async function globalSetup(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const ddb = await startDynamoLocal({ maxHeap: '3g' });
  process.env.DUALREAD_TEST_ENDPOINT = ddb.endpoint;
  process.env.DUALREAD_TEST_DDB_PID = String(ddb.pid);
  (globalThis as { __dualreadStopDynamo?: () => Promise<void> }).__dualreadStopDynamo = ddb.stop;
}
