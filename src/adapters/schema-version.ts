// What both databases' migration runners share: the refusal of a schema newer than this release.
// A node must not write rows whose shape it does not know, so it stops before serving anything.

export class SchemaTooNewError extends Error {
  constructor(found: number, known: number) {
    super(`the database's schema is version ${found}, newer than this amiforge knows (${known}): `
      + 'run a release at least as new as the one that upgraded it, or point --database at another database');
    this.name = 'SchemaTooNewError';
  }
}
