/* synth.c */
typedef int placeholder_unit;
