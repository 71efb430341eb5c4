// Resource ids of linebridge_ui.rc (the dialogs of the UI DLL).
#pragma once

#define IDD_CONFIG 100
#define IDD_MESSAGE 101

#define IDC_INFO 1000
#define IDC_ERROR 1001
#define IDC_MESSAGE 1002
// Field i of kFields (settings_form.h): its label IDC_LABEL0 + i, its
// control IDC_FIELD0 + i.
#define IDC_LABEL0 1100
#define IDC_FIELD0 1200
