/* process_grid.c */
typedef int placeholder_unit;
