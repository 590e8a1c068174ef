import type * as k8s from '@pulumi/kubernetes'

/**
 * The "restricted" Pod Security Standard: non-root, no privilege escalation,
 * no capabilities, the runtime's default seccomp profile, and a read-only
 * root filesystem (writable paths are explicit volumes).
 */
export const NON_ROOT_UID = 1000 // the Dockerfile's USER

export const restrictedPodSecurity: k8s.types.input.core.v1.PodSecurityContext = {
  runAsNonRoot: true,
  runAsUser: NON_ROOT_UID,
  runAsGroup: NON_ROOT_UID,
  // Volumes (the gateway's SQLite files) are made writable for this group.
  fsGroup: NON_ROOT_UID,
  seccompProfile: { type: 'RuntimeDefault' }
}

export const restrictedContainerSecurity: k8s.types.input.core.v1.SecurityContext = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' }
}
