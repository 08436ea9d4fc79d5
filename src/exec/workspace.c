/*
 * workspace.c — scratch memory shared by all the nodes of a session.  A
 * kernel whose workspace is only needed while it runs (Winograd's transformed
 * tiles) takes it from here instead of keeping its own in the node state, so
 * a model holds one such buffer, sized for its largest user, not one per node.
 * Nodes run one at a time; a buffer is valid until the next request for the
 * same slot, so a kernel must not call another kernel while it holds one.
 */
#include "exec/exec.h"

void *nt_exec_workspace(nt_exec *exec, int slot, size_t nbytes)
{
    if (!exec || !exec->sess || slot < 0 || slot >= NT_WORKSPACE_SLOTS)
        return NULL;
    nt_session *s = exec->sess;
    if (nbytes == 0)
        nbytes = 1;
    if (s->work[slot] && s->work_cap[slot] >= nbytes)
        return s->work[slot];
    nt_aligned_free(s->work[slot]);
    s->work_cap[slot] = 0;
    s->work[slot] = nt_aligned_alloc(nbytes);
    if (s->work[slot])
        s->work_cap[slot] = nbytes;
    return s->work[slot];
}

void nt_session_workspace_free(nt_session *s)
{
    for (int i = 0; i < NT_WORKSPACE_SLOTS; i++) {
        nt_aligned_free(s->work[i]);
        s->work[i] = NULL;
        s->work_cap[i] = 0;
    }
}
