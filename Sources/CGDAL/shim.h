// The parts of the GDAL C API that Imaging's raster store uses. Declarations only: the functions are
// defined by the CGDALLoader target, which loads libgdal on first use (nothing links it).
#include <gdal/gdal.h>
#include <gdal/cpl_conv.h>
#include <gdal/cpl_error.h>
#include <gdal/cpl_string.h>
#include <gdal/ogr_srs_api.h>
