import * as k8s from '@pulumi/kubernetes'
import * as pulumi from '@pulumi/pulumi'
import { APP } from './labels'

export interface AppNamespaceArgs {
  readonly name: string
  /** False when the namespace is managed elsewhere: it is then only referenced. */
  readonly create: boolean
}

/**
 * The namespace everything lives in. When created here, its name is an
 * Output of the Namespace, so every object waits for it to exist.
 */
export class AppNamespace extends pulumi.ComponentResource {
  readonly name: pulumi.Output<string>

  constructor (name: string, args: AppNamespaceArgs, opts?: pulumi.ComponentResourceOptions) {
    super(`${APP}:k8s:AppNamespace`, name, {}, opts)
    if (args.create) {
      const ns = new k8s.core.v1.Namespace(`${name}-namespace`, {
        metadata: {
          name: args.name,
          labels: {
            'app.kubernetes.io/part-of': APP,
            // Every pod here meets the restricted Pod Security Standard; say so, and enforce it.
            'pod-security.kubernetes.io/enforce': 'restricted'
          }
        }
      }, { parent: this })
      this.name = ns.metadata.name
    } else {
      this.name = pulumi.output(args.name)
    }
    this.registerOutputs({ name: this.name })
  }
}
