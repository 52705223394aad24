// Operational endpoints of Image Builder lifecycle policies. Image Builder has no API call that
// runs a policy now (it runs each enabled one daily), so amiforge adds two, named by the policy's
// URL-encoded ARN: POST /_amiforge/lifecycle-policies/ARN/run starts an execution now (202; an
// execution already under way is returned instead), and .../preview starts a dry run whose
// resources (ListLifecycleExecutionResources) show what an execution would do, changing nothing.
import { parseIbArn } from '../domain/imagebuilder/arns.ts';
import { isServiceError } from '../domain/errors.ts';
import type { App } from './app.ts';

const json = (status: number, body: unknown) => ({ status, body: JSON.stringify(body) });

export async function startLifecyclePolicy(app: App, encodedArn: string, preview: boolean): Promise<{ status: number; body: string }> {
  const arn = decodeURIComponent(encodedArn);
  const parsed = parseIbArn(arn);
  if (!parsed || parsed.type !== 'lifecycle-policy') return json(400, { error: `${arn} is not a lifecycle policy ARN.` });
  try {
    const started = await app.imageBuilder.lifecycle.startNow({ account: parsed.owner, region: parsed.region }, arn, preview);
    return json(202, { lifecyclePolicyArn: arn, preview, ...started });
  } catch (err) {
    if (!isServiceError(err)) throw err;
    return json(err.status === 404 ? 404 : 409, { error: err.message, code: err.code });
  }
}
