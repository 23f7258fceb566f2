/*
 * output_file.c - write to a temporary name, rename when complete.
 */
#include "output_file.h"
#include "status.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int output_file_open(output_file *o, const char *path, const char *mode)
{
    o->f = NULL;
    if (snprintf(o->path, sizeof o->path, "%s", path) >= (int)sizeof o->path)
        return dsc_fail("%s: path too long; use a shorter name", path);
    snprintf(o->tmp, sizeof o->tmp, "%s.tmp.%ld", path, (long)getpid());
    o->f = fopen(o->tmp, mode);
    if (!o->f)
        return dsc_fail("%s: cannot create %s: %s; check that the directory exists and is writable", path, o->tmp,
                        strerror(errno));
    return DSC_OK;
}

int output_file_commit(output_file *o)
{
    int bad = fflush(o->f) != 0 || ferror(o->f);
    int e = errno;
    if (fclose(o->f) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    o->f = NULL;
    if (!bad && rename(o->tmp, o->path) != 0) {
        bad = 1;
        e = errno;
    }
    if (bad) {
        unlink(o->tmp);
        return dsc_fail("%s: cannot write: %s; check the space left on the device", o->path, strerror(e));
    }
    return DSC_OK;
}

void output_file_abort(output_file *o)
{
    if (o->f) fclose(o->f);
    o->f = NULL;
    unlink(o->tmp);
}
