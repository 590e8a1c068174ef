import { connect } from 'node:net'

export interface RawResponse { readonly head: string, readonly status: number, readonly body: string }

/**
 * Sends bytes exactly as given and reads until the server closes: the only
 * way to put headers on the wire that HTTP clients refuse to send.
 */
export function rawRequest (url: string, text: string): Promise<RawResponse> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(text))
    const chunks: Buffer[] = []
    socket.on('data', c => chunks.push(c))
    socket.on('error', reject)
    socket.on('close', () => {
      const all = Buffer.concat(chunks).toString('utf8')
      const split = all.indexOf('\r\n\r\n')
      const head = split === -1 ? all : all.slice(0, split)
      resolve({ head, status: Number(head.split(' ')[1]), body: split === -1 ? '' : all.slice(split + 4) })
    })
  })
}
