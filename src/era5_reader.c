/* era5_reader.c */
typedef int placeholder_unit;
