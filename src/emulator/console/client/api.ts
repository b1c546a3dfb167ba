/** The console's JSON endpoints, with the token from the page's URL. */
export type ApiError = Error & { code?: string; status?: number }

export const token = new URLSearchParams(location.search).get('token') ?? ''
export const base = location.pathname.replace(/\/(index\.html)?$/, '')

export async function api<T>(path: string, body?: unknown): Promise<T> {
  const init: RequestInit = { headers: { 'X-Console-Token': token } }
  if (body !== undefined) {
    init.method = 'POST'
    init.headers = { 'X-Console-Token': token, 'Content-Type': 'application/json' }
    init.body = JSON.stringify(body)
  }
  let res: Response
  try {
    res = await fetch(base + path, init)
  } catch {
    throw Object.assign(new Error('The emulator does not answer (is scf-graceful local still running?)'), { code: 'NetworkError' })
  }
  const data = (await res.json().catch(() => ({}))) as { error?: { code?: string; message?: string } }
  if (!res.ok) throw Object.assign(new Error(data.error?.message ?? `${res.status} ${res.statusText}`), { code: data.error?.code ?? String(res.status), status: res.status }) as ApiError
  return data as T
}

export const streamUrl = (requestId?: string): string =>
  `${base}/api/stream?${requestId === undefined ? '' : `requestId=${encodeURIComponent(requestId)}&`}token=${encodeURIComponent(token)}`
