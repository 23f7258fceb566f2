/*
 * train_folder.c - the output folder of dsc train: lock, config.txt kept
 * or put back, outputs staged and renamed together (see train_folder.h).
 */
#include "train_folder.h"
#include "output_file.h"
#include "run_folder.h"
#include "status.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

/* Names this file leaves behind only when the process is killed. */
static const char *stale_prefixes[] = {".outputs.tmp.", ".config.txt.prev.tmp.", ".checkpoint.ckpt.prev.tmp."};

static int join(char *out, const char *dir, const char *name)
{
    if (snprintf(out, TRAIN_FOLDER_PATH, "%s/%s", dir, name) >= TRAIN_FOLDER_PATH)
        return dsc_fail("dsc train: output folder %s: path too long; use a shorter name", dir);
    return DSC_OK;
}

/* Local: removes the files of folder (one level) and the folder. */
static void remove_tree(const char *folder)
{
    DIR *d = opendir(folder);
    struct dirent *e;
    char path[TRAIN_FOLDER_PATH];
    while (d && (e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && join(path, folder, e->d_name) == DSC_OK) unlink(path);
    if (d) closedir(d);
    rmdir(folder);
    dsc_clear();
}

/* Rank 0, under the lock: what killed runs left (staging folders, copies
 * of replaced files).  No live run can own them while the lock is held. */
static void remove_stale(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[TRAIN_FOLDER_PATH];
    while (d && (e = readdir(d)) != NULL)
        for (size_t i = 0; i < sizeof stale_prefixes / sizeof stale_prefixes[0]; i++)
            if (!strncmp(e->d_name, stale_prefixes[i], strlen(stale_prefixes[i])) && join(path, dir, e->d_name) == DSC_OK) {
                if (i == 0) remove_tree(path);
                else unlink(path);
            }
    if (d) closedir(d);
    dsc_clear();
}

/* Rank 0: flock on the open folder.  A file system without flock (some
 * network mounts) runs without the lock rather than not at all. */
static int lock_folder(train_folder *tf)
{
    int fd = open(tf->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return dsc_fail("dsc train: output folder %s: cannot open it: %s; check the path", tf->dir, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
        tf->lock_fd = fd;
        remove_stale(tf->dir);
        return DSC_OK;
    }
    int e = errno;
    close(fd);
    if (e == EWOULDBLOCK)
        return dsc_fail("dsc train: output folder %s is in use by another dsc train run; wait until it ends, or choose "
                        "another folder", tf->dir);
    return DSC_OK;
}

int train_folder_open(MPI_Comm comm, train_folder *tf, const char *dir, int resume, int force, char **inputs, int ninputs,
                      const char *truth)
{
    int rank, status = DSC_OK;
    MPI_Comm_rank(comm, &rank);
    memset(tf, 0, sizeof *tf);
    tf->rank = rank;
    tf->dir = dir;
    tf->lock_fd = -1;
    struct stat sb;
    /* an existing folder is locked first, so that what a killed run left
     * is removed before the folder is found not empty */
    int existed = rank == 0 && stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode);
    MPI_Bcast(&existed, 1, MPI_INT, 0, comm);
    if (!resume) status = run_folder_spares(comm, dir, "train", "--truth", truth);
    if (status == DSC_OK && (existed || resume) && rank == 0) status = lock_folder(tf);
    if ((status = dsc_agree(comm, status)) != DSC_OK || resume) return status;
    status = run_folder_prepare(comm, dir, force, "train", inputs, ninputs);
    if (status != DSC_OK || existed) return status;
    tf->created = rank == 0;
    if (rank == 0) status = lock_folder(tf);
    if (dsc_agree(comm, status) != DSC_OK) {
        tf->created = 0; /* another run holds it: not ours to remove */
        return DSC_ERR;
    }
    /* again under the lock: a run that ended just before may have filled it */
    return run_folder_prepare(comm, dir, force, "train", inputs, ninputs);
}

/* Rank 0: a hard link to path under a hidden name in prev ("" when path
 * does not exist or cannot be linked). */
static void keep_copy(const char *path, char *prev)
{
    char base[TRAIN_FOLDER_PATH];
    prev[0] = '\0';
    if (access(path, F_OK) != 0 || snprintf(base, sizeof base, "%s.prev", path) >= (int)sizeof base) return;
    if (output_temp_name(prev, TRAIN_FOLDER_PATH, base) != DSC_OK || link(path, prev) != 0) prev[0] = '\0';
    dsc_clear();
}

int train_folder_begin(train_folder *tf, int resume)
{
    char config[TRAIN_FOLDER_PATH], ckpt[TRAIN_FOLDER_PATH];
    if (join(config, tf->dir, "config.txt") != DSC_OK || join(ckpt, tf->dir, "checkpoint.ckpt") != DSC_OK) return DSC_ERR;
    tf->began = 1;
    keep_copy(config, tf->config_prev);
    if (!resume) {
        keep_copy(ckpt, tf->ckpt_prev);
        if (tf->ckpt_prev[0]) unlink(ckpt);
    }
    tf->had_ckpt = stat(ckpt, &tf->ckpt_start) == 0;
    return DSC_OK;
}

int train_folder_stage(MPI_Comm comm, train_folder *tf, long long bytes)
{
    int rank, status = DSC_OK;
    MPI_Comm_rank(comm, &rank);
    char outputs[TRAIN_FOLDER_PATH], reserve[TRAIN_FOLDER_PATH];
    if (rank == 0) {
        status = join(outputs, tf->dir, "outputs");
        if (status == DSC_OK) status = output_temp_name(tf->staging, sizeof tf->staging, outputs);
        if (status == DSC_OK && mkdir(tf->staging, 0777) != 0) {
            status = dsc_fail("dsc train: output folder %s: cannot write the outputs: %s; free some space on that device or "
                              "check the folder", tf->dir, strerror(errno));
            tf->staging[0] = '\0';
        }
        if (status == DSC_OK) status = join(reserve, tf->staging, "reserve");
        int fd = status == DSC_OK ? open(reserve, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600) : -1;
        int e = fd < 0 ? errno : posix_fallocate(fd, 0, (off_t)bytes);
        if (fd >= 0) close(fd);
        if (status == DSC_OK) unlink(reserve);
        if (status == DSC_OK && e != 0 && e != EOPNOTSUPP && e != EINVAL)
            status = dsc_fail("dsc train: output folder %s: no room for the outputs (%.1f MB): %s; free some space on that "
                              "device or write elsewhere, then train again", tf->dir, (double)bytes / 1e6, strerror(e));
    }
    MPI_Bcast(tf->staging, (int)sizeof tf->staging, MPI_CHAR, 0, comm);
    return dsc_agree(comm, status);
}

int train_folder_commit(MPI_Comm comm, train_folder *tf)
{
    int rank, status = DSC_OK;
    MPI_Comm_rank(comm, &rank);
    /* every file but metrics.json, then metrics.json: it says the run is complete */
    for (int pass = 0; rank == 0 && pass < 2 && status == DSC_OK; pass++) {
        DIR *d = opendir(tf->staging);
        struct dirent *e;
        char from[TRAIN_FOLDER_PATH], to[TRAIN_FOLDER_PATH];
        while (d && status == DSC_OK && (e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.' || (strcmp(e->d_name, "metrics.json") == 0) != (pass == 1)) continue;
            status = join(from, tf->staging, e->d_name);
            if (status == DSC_OK) status = join(to, tf->dir, e->d_name);
            if (status == DSC_OK && rename(from, to) != 0)
                status = dsc_fail("dsc train: output folder %s: cannot put %s in place: %s; check the folder", tf->dir,
                                  e->d_name, strerror(errno));
        }
        if (d) closedir(d);
    }
    if (rank == 0 && status == DSC_OK) {
        rmdir(tf->staging);
        tf->staging[0] = '\0';
    }
    return dsc_agree(comm, status);
}

/* Rank 0: whether checkpoint.ckpt is one this run wrote. */
static int own_checkpoint(const train_folder *tf, const char *ckpt)
{
    struct stat now;
    if (stat(ckpt, &now) != 0) return 0;
    return !tf->had_ckpt || now.st_ino != tf->ckpt_start.st_ino || now.st_mtim.tv_sec != tf->ckpt_start.st_mtim.tv_sec ||
           now.st_mtim.tv_nsec != tf->ckpt_start.st_mtim.tv_nsec;
}

void train_folder_end(train_folder *tf, int status)
{
    char config[TRAIN_FOLDER_PATH], ckpt[TRAIN_FOLDER_PATH];
    if (!tf->dir || join(config, tf->dir, "config.txt") != DSC_OK || join(ckpt, tf->dir, "checkpoint.ckpt") != DSC_OK) {
        dsc_clear();
        return;
    }
    if (tf->rank != 0) return;
    if (tf->staging[0]) remove_tree(tf->staging);
    tf->staging[0] = '\0';
    if (tf->began && status != DSC_OK && !own_checkpoint(tf, ckpt)) {
        /* nothing to resume from: the folder as it was before this run */
        if (tf->config_prev[0]) rename(tf->config_prev, config);
        else unlink(config);
        if (tf->ckpt_prev[0]) rename(tf->ckpt_prev, ckpt);
    } else {
        if (tf->config_prev[0]) unlink(tf->config_prev);
        if (tf->ckpt_prev[0]) unlink(tf->ckpt_prev);
    }
    tf->config_prev[0] = tf->ckpt_prev[0] = '\0';
    if (status != DSC_OK && tf->created) rmdir(tf->dir); /* only when empty */
    if (tf->lock_fd >= 0) close(tf->lock_fd);
    tf->lock_fd = -1;
}
