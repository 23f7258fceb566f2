/*
 * model_inputs.c - a trained model's inputs and matching new data to them
 * (see model_inputs.h).
 */
#include "model_inputs.h"
#include "checkpoint.h"
#include "status.h"
#include "train_state_header.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int model_inputs_describe(preprocess_stats *st, const era5_catalog *cat)
{
    free(st->lat);
    free(st->lon);
    st->lat = st->lon = NULL;
    st->has_inputs = 0;
    if (cat->nvars != st->nvars || cat->nlat != st->nlat || cat->nlon != st->nlon)
        return dsc_fail("the normalisation statistics (%d variables on %dx%d) are not those of the data (%d on %dx%d)",
                        st->nvars, st->nlat, st->nlon, cat->nvars, cat->nlat, cat->nlon);
    st->lat = dsc_malloc((size_t)st->nlat * sizeof(double), "the latitudes of the model");
    st->lon = dsc_malloc((size_t)st->nlon * sizeof(double), "the longitudes of the model");
    if (!st->lat || !st->lon) {
        free(st->lat);
        free(st->lon);
        st->lat = st->lon = NULL;
        return DSC_ERR;
    }
    memcpy(st->lat, cat->lat, (size_t)st->nlat * sizeof(double));
    memcpy(st->lon, cat->lon, (size_t)st->nlon * sizeof(double));
    memset(st->var_name, 0, sizeof st->var_name);
    memset(st->var_units, 0, sizeof st->var_units);
    for (int v = 0; v < st->nvars; v++) {
        snprintf(st->var_name[v], sizeof st->var_name[v], "%s", era5_canonical_name(cat->vars[v].name));
        snprintf(st->var_units[v], sizeof st->var_units[v], "%s", cat->vars[v].units);
    }
    st->has_inputs = 1;
    return DSC_OK;
}

int model_inputs_check_trained(const char *mpath, const void *state, size_t state_bytes)
{
    if (!state || state_bytes == 0) return DSC_OK; /* no training state: a model not written by dsc train */
    train_state_header ts;
    if (train_state_header_read(&ts, state, state_bytes, mpath) != DSC_OK) {
        dsc_clear(); /* not a state this dsc knows: nothing to tell */
        return DSC_OK;
    }
    if (ts.centroids_ready) return DSC_OK;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", mpath);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = '\0';
    else snprintf(dir, sizeof dir, ".");
    return dsc_fail("%s: the run was stopped during pre-training (step %ld), before its centroids were initialised, so the "
                    "model has no clusters yet; finish it with dsc train --resume %s and use %s/model.ckpt",
                    mpath, ts.iteration, dir, dir);
}

/* "t2m, sp" */
static void list_names(const char names[][ERA5_NAME_LEN], int n, char *out, size_t len)
{
    out[0] = '\0';
    for (int v = 0; v < n; v++) {
        size_t used = strlen(out);
        snprintf(out + used, len - used, "%s%s", v ? ", " : "", names[v]);
    }
}

static void catalog_names(const era5_catalog *cat, char *out, size_t len)
{
    out[0] = '\0';
    for (int v = 0; v < cat->nvars; v++) {
        size_t used = strlen(out);
        snprintf(out + used, len - used, "%s%s", v ? ", " : "", cat->vars[v].name);
    }
}

static int find_name(const char names[][ERA5_NAME_LEN], int n, const char *name)
{
    for (int v = 0; v < n; v++)
        if (strcmp(names[v], era5_canonical_name(name)) == 0) return v;
    return -1;
}

/* The extent of the model's grid as a --box S,N,W,E. */
static void model_box(const preprocess_stats *st, char *out, size_t len)
{
    double s = st->lat[0], n = st->lat[0], w = st->lon[0], e = st->lon[0];
    for (int y = 1; y < st->nlat; y++) s = fmin(s, st->lat[y]), n = fmax(n, st->lat[y]);
    for (int x = 1; x < st->nlon; x++) w = fmin(w, st->lon[x]), e = fmax(e, st->lon[x]);
    snprintf(out, len, "%g,%g,%g,%g", s, n, w, e);
}

/* Degrees between two longitudes, modulo 360. */
static double lon_distance(double a, double b)
{
    double d = fmod(fabs(a - b), 360.0);
    return d > 180.0 ? 360.0 - d : d;
}

/* Local: the user's --vars (if any) name the model's variables. */
static int check_requested(const char *mpath, const preprocess_stats *st, const era5_options *eo)
{
    if (eo->nvars == 0) return DSC_OK;
    char want[1200];
    list_names(st->var_name, st->nvars, want, sizeof want);
    for (int v = 0; v < eo->nvars; v++)
        if (find_name(st->var_name, st->nvars, eo->vars[v]) < 0)
            return dsc_fail("%s: the model takes the variables %s; --vars gives '%s', which is not one of them; give --vars "
                            "with the model's variables (in any order) or leave --vars out", mpath, want, eo->vars[v]);
    for (int v = 0; v < st->nvars; v++) {
        int found = 0;
        for (int i = 0; i < eo->nvars; i++) found |= strcmp(era5_canonical_name(eo->vars[i]), st->var_name[v]) == 0;
        if (!found)
            return dsc_fail("%s: the model takes the variables %s; --vars leaves out '%s'; give --vars with the model's "
                            "variables (in any order) or leave --vars out", mpath, want, st->var_name[v]);
    }
    return DSC_OK;
}

/* Local: the catalog has every variable of the model. */
static int check_present(const char *mpath, const preprocess_stats *st, const era5_catalog *cat)
{
    for (int v = 0; v < st->nvars; v++) {
        int found = 0;
        for (int i = 0; i < cat->nvars; i++) found |= strcmp(cat->vars[i].name, st->var_name[v]) == 0;
        if (!found) {
            char want[1200], have[1200];
            list_names(st->var_name, st->nvars, want, sizeof want);
            catalog_names(cat, have, sizeof have);
            return dsc_fail("%s: the model takes the variables %s, but the data have no '%s' (%s has %s); give files "
                            "with the model's variables", mpath, want, st->var_name[v], cat->files[0].path, have);
        }
    }
    return DSC_OK;
}

/* Local: the catalog holds exactly the model's variables in its order. */
static int same_order(const preprocess_stats *st, const era5_catalog *cat)
{
    if (cat->nvars != st->nvars) return 0;
    for (int v = 0; v < st->nvars; v++)
        if (strcmp(cat->vars[v].name, st->var_name[v]) != 0) return 0;
    return 1;
}

/* Local: units and grid of the catalog (in the model's order) against the model. */
static int check_catalog(const char *mpath, const preprocess_stats *st, const era5_catalog *cat)
{
    for (int v = 0; v < st->nvars; v++) {
        const char *mine = st->var_units[v], *theirs = cat->vars[v].units;
        if (mine[0] && theirs[0] && strcmp(mine, theirs) != 0) /* units unknown on either side: nothing to compare */
            return dsc_fail("%s: variable '%s' is in %s in the data (%s) but the model was trained on %s; convert the "
                            "data to %s (cdo, nco)", mpath, st->var_name[v], theirs, cat->files[0].path, mine, mine);
    }
    char box[160];
    model_box(st, box, sizeof box);
    if (cat->nlat != st->nlat || cat->nlon != st->nlon)
        return dsc_fail("%s: the model was trained on a %dx%d grid (latitudes x longitudes, --box %s), the data have "
                        "%dx%d; select the model's area with --box %s or give data on the model's grid",
                        mpath, st->nlat, st->nlon, box, cat->nlat, cat->nlon, box);
    for (int y = 0; y < st->nlat; y++)
        if (!(fabs(cat->lat[y] - st->lat[y]) <= MODEL_INPUTS_TOLERANCE))
            return dsc_fail("%s: latitude %d of the data is %g, the model's is %g: the data are on another grid than the "
                            "model was trained on (--box %s, the same order of latitudes); give data on the model's grid "
                            "(cdo remapbil, or select it with --box)", mpath, y, cat->lat[y], st->lat[y], box);
    for (int x = 0; x < st->nlon; x++)
        if (!(lon_distance(cat->lon[x], st->lon[x]) <= MODEL_INPUTS_TOLERANCE))
            return dsc_fail("%s: longitude %d of the data is %g, the model's is %g: the data are on another grid than the "
                            "model was trained on (--box %s); give data on the model's grid (cdo remapbil, or select it "
                            "with --box)", mpath, x, cat->lon[x], st->lon[x], box);
    return DSC_OK;
}

int model_inputs_unpack_stats(preprocess_stats *st, const char *mpath, const void *blob, size_t blob_bytes)
{
    int status = preprocess_stats_unpack(st, blob, blob_bytes / sizeof(double));
    if (status != DSC_OK) { /* name the checkpoint in the message */
        char why[512];
        snprintf(why, sizeof why, "%s", dsc_message());
        dsc_clear();
        status = dsc_fail("%s: %s", mpath, why);
    }
    return status;
}

/* Collective: the statistics (with the inputs, if recorded) of the
 * checkpoint, and the check of its training state; st->min == NULL when it
 * has no statistics. */
static int read_model(MPI_Comm comm, const char *mpath, preprocess_stats *st)
{
    memset(st, 0, sizeof *st);
    checkpoint_extra extra;
    if (checkpoint_read_extra(comm, mpath, &extra) != DSC_OK) return DSC_ERR;
    int status = model_inputs_check_trained(mpath, extra.state, extra.state_bytes);
    if (status == DSC_OK && extra.blob && extra.blob_bytes > 0)
        status = model_inputs_unpack_stats(st, mpath, extra.blob, extra.blob_bytes);
    free(extra.blob);
    free(extra.state);
    return dsc_agree(comm, status);
}

int model_inputs_open(MPI_Comm comm, const char *mpath, char **files, int nfiles, era5_options *eo, era5_catalog *cat)
{
    if (!mpath) return era5_catalog_open(comm, files, nfiles, eo, cat);
    int rank;
    MPI_Comm_rank(comm, &rank);
    preprocess_stats st;
    if (read_model(comm, mpath, &st) != DSC_OK) return DSC_ERR;
    if (!st.has_inputs) {
        if (rank == 0)
            dsc_warn("%s: the model does not record the names of its variables or its grid (written by an older dsc): "
                     "the data's variables are matched to it by position; give --vars in the order of training",
                     mpath);
        if (st.min) preprocess_stats_destroy(&st);
        return era5_catalog_open(comm, files, nfiles, eo, cat);
    }
    int status = dsc_agree(comm, check_requested(mpath, &st, eo));
    if (status == DSC_OK) status = era5_catalog_open(comm, files, nfiles, eo, cat);
    if (status == DSC_OK) {
        status = dsc_agree(comm, check_present(mpath, &st, cat));
        if (status == DSC_OK && !same_order(&st, cat)) {
            /* read the model's variables in its order: open again, asking for them */
            era5_catalog_destroy(cat);
            eo->nvars = st.nvars;
            for (int v = 0; v < st.nvars; v++) snprintf(eo->vars[v], sizeof eo->vars[v], "%s", st.var_name[v]);
            if (era5_catalog_open(comm, files, nfiles, eo, cat) != DSC_OK) {
                preprocess_stats_destroy(&st);
                return DSC_ERR;
            }
        }
        if (status == DSC_OK) status = dsc_agree(comm, check_catalog(mpath, &st, cat));
        if (status != DSC_OK) era5_catalog_destroy(cat);
    }
    preprocess_stats_destroy(&st);
    return status;
}
