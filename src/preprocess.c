/* preprocess.c */
typedef int placeholder_unit;
