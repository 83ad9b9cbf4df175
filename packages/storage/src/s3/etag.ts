/** S3 sends ETags in quotes (`"<md5>"` or `"<md5>-<parts>"`); the store reports them bare. */
export function unquoteEtag(etag: string | undefined): string {
  return (etag ?? '').replace(/^"|"$/g, '');
}
