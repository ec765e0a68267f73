#ifndef TESSERA_CGDALLOADER_H
#define TESSERA_CGDALLOADER_H

#include <gdal/gdal.h>
#include <gdal/cpl_conv.h>
#include <gdal/cpl_error.h>
#include <gdal/cpl_string.h>
#include <gdal/ogr_srs_api.h>

/// 1 when the GDAL shared library was found and loaded (on first call), 0 otherwise.
int tessera_gdal_available(void);

#endif
