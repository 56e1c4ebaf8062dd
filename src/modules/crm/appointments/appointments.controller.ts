import { Controller } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { CrmController } from '../common/crm-resource.controller';
import { appointmentsDefinition } from './appointments.definition';
import { AppointmentsService } from './appointments.service';
import {
  AppointmentExportQuery,
  AppointmentListQuery,
  AppointmentResponse,
  CreateAppointmentDto,
  UpdateAppointmentDto,
} from './dto/appointment.dto';

@ApiTags('appointments')
@Controller('appointments')
export class AppointmentsController extends CrmController(appointmentsDefinition, {
  create: CreateAppointmentDto,
  update: UpdateAppointmentDto,
  listQuery: AppointmentListQuery,
  exportQuery: AppointmentExportQuery,
  response: AppointmentResponse,
}) {
  constructor(service: AppointmentsService) {
    super(service);
  }
}
