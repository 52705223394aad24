// Image Builder's package list and scan findings, read from the hygiene scan
// (src/domain/imagebuilder/hygiene).
import type { IbHandlers } from '../handler-types.ts';

export const hygieneHandlers: IbHandlers = {
  ListImagePackages: (input, ctx, ib) => ib.hygiene.listImagePackages(ctx.caller, input),
  ListImageScanFindings: (input, ctx, ib) => ib.hygiene.listImageScanFindings(ctx.caller, input),
};
