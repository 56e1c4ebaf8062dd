import { defineCrmEntry } from '../common/crm-resource.entry';
import { appointmentsDefinition } from './appointments.definition';
import { AppointmentsService } from './appointments.service';
import {
  AppointmentExportQuery,
  AppointmentListQuery,
  AppointmentResponse,
  CreateAppointmentDto,
  UpdateAppointmentDto,
} from './dto/appointment.dto';

export const appointmentsResource = defineCrmEntry({
  definition: appointmentsDefinition,
  dtos: {
    create: CreateAppointmentDto,
    update: UpdateAppointmentDto,
    listQuery: AppointmentListQuery,
    exportQuery: AppointmentExportQuery,
    response: AppointmentResponse,
  },
  service: AppointmentsService,
});
