import 'reflect-metadata';
import { type Ctor, controllerRoutes as routes, dtoErrors as errorsOf } from '../../common/testing/controller-routes';
import { PERMISSION, type PermissionSpec, SENSITIVE } from '../../common/security/decorators';
import { CreateAppointmentDto } from './appointments/dto/appointment.dto';
import { CreateClientDto, UpdateClientDto } from './clients/dto/client.dto';
import { crmResourceController } from './common/crm-resource.controller';
import { sortOptions } from './common/crm-resource.definition';
import { CRM_CATALOGUE } from './crm-catalogue';
import { CreateEscrowDto } from './escrows/dto/escrow.dto';
import { CreateLeadDto } from './leads/dto/lead.dto';
import { CreateListingDto } from './listings/dto/listing.dto';

// Every resource of the catalogue, through the controller CrmModule builds for it.
const RESOURCES = CRM_CATALOGUE.map(
  (e) =>
    [
      e.definition.resource,
      crmResourceController(e) as Ctor,
      e.definition,
      e.dtos.listQuery,
      e.dtos.exportQuery,
      e.dtos.create,
    ] as const,
);

describe.each(RESOURCES)('%s', (_name, controller, def, listQuery, exportQuery, createDto) => {
  it('has the eight generic routes, each declaring its permission; delete and export are sensitive', () => {
    const byKey = new Map(routes(controller).map((r) => [`${r.method} ${r.path}`, r]));
    for (const key of [
      'GET /',
      'GET export',
      'GET :id',
      'POST /',
      'PATCH :id',
      'DELETE :id',
      'GET trash',
      'POST :id/restore',
    ])
      expect(byKey.has(key)).toBe(true);
    for (const route of byKey.values()) {
      const permission = Reflect.getMetadata(PERMISSION, route.handler) as PermissionSpec;
      expect(permission?.resource).toBe(def.resource);
      // The trash and restore belong to whoever may delete.
      const trash = route.path === 'trash' || route.path === ':id/restore';
      const expected = trash || route.method === 'DELETE' ? 'delete' : route.method === 'GET' ? 'read' : 'write';
      expect(permission.action).toBe(expected);
    }
    expect(Reflect.getMetadata(SENSITIVE, byKey.get('DELETE :id')!.handler)).toBe('delete');
    expect(Reflect.getMetadata(SENSITIVE, byKey.get('GET export')!.handler)).toBe('export');
  });

  it('hands ValidationPipe the real DTO classes', () => {
    const proto = Object.getPrototypeOf(controller.prototype);
    expect(Reflect.getMetadata('design:paramtypes', proto, 'list')[0]).toBe(listQuery);
    expect(Reflect.getMetadata('design:paramtypes', proto, 'export')[0]).toBe(exportQuery);
    expect(Reflect.getMetadata('design:paramtypes', proto, 'create')[0]).toBe(createDto);
  });

  it('validates every filter and sort of the definition; export takes no paging', () => {
    for (const sort of sortOptions(def.sorts)) expect(errorsOf(listQuery, { sort })).toEqual([]);
    expect(errorsOf(listQuery, { sort: 'password' })).toEqual(['sort']);
    expect(errorsOf(listQuery, { limit: '0' })).toEqual(['limit']);
    expect(errorsOf(listQuery, { limit: '101' })).toEqual(['limit']);
    expect(errorsOf(listQuery, { limit: 'ten' })).toEqual(['limit']);
    expect(errorsOf(listQuery, { unknownFilter: 'x' })).toEqual(['unknownFilter']);
    for (const filter of def.filters)
      expect(errorsOf(listQuery, { [filter.param]: ['a', 'b'] })).toEqual([filter.param]);
    expect(errorsOf(exportQuery, { limit: '10' })).toEqual(['limit']);
    expect(errorsOf(exportQuery, { cursor: 'abc' })).toEqual(['cursor']);
  });
});

describe('CRM DTO rules', () => {
  it('money: numbers or strings with at most 2 decimals', () => {
    expect(errorsOf(CreateListingDto, { address: 'x', price: 450000 })).toEqual([]);
    expect(errorsOf(CreateListingDto, { address: 'x', price: '450000.50' })).toEqual([]);
    expect(errorsOf(CreateListingDto, { address: 'x', price: 0.29 })).toEqual([]);
    for (const price of [1.005, -1, '1e5', '12.345', 1e13, 'abc', true])
      expect(errorsOf(CreateListingDto, { address: 'x', price })).toEqual(['price']);
  });

  it('dates and date-times are strict', () => {
    expect(errorsOf(CreateAppointmentDto, { title: 't', startsAt: '2025-02-01T10:00:00Z' })).toEqual([]);
    expect(errorsOf(CreateAppointmentDto, { title: 't', startsAt: '2025-02-01T10:00:00' })).toEqual(['startsAt']);
    expect(errorsOf(CreateAppointmentDto, { title: 't', startsAt: '2025-02-30T10:00:00Z' })).toEqual(['startsAt']);
    expect(errorsOf(CreateEscrowDto, { propertyAddress: 'p', closingDate: '2025-02-29' })).toEqual(['closingDate']);
    expect(errorsOf(CreateEscrowDto, { propertyAddress: 'p', closingDate: '2024-02-29' })).toEqual([]);
  });

  it('required fields are required and trimmed; enums are closed; leads cannot be set to converted directly', () => {
    expect(errorsOf(CreateClientDto, { firstName: '  ', lastName: 'x' })).toEqual(['firstName']);
    expect(errorsOf(CreateClientDto, { lastName: 'x' })).toEqual(['firstName']);
    expect(errorsOf(CreateClientDto, { firstName: 'a', lastName: 'b', clientType: 'tenant' })).toEqual(['clientType']);
    expect(errorsOf(UpdateClientDto, { status: null })).toEqual([]);
    expect(errorsOf(CreateLeadDto, { firstName: 'a', lastName: 'b', leadStatus: 'converted' })).toEqual(['leadStatus']);
    expect(
      errorsOf(CreateClientDto, { firstName: 'a', lastName: 'b', teamId: '00000000-0000-4000-8000-000000000000' }),
    ).toEqual(['teamId']);
  });
});
