/* synth.h - the ERA5-like sample data set generator (dsc synth). */
#ifndef DSC_SYNTH_H
#define DSC_SYNTH_H
#endif
