/* era5_catalog.c */
typedef int placeholder_unit;
